"""Structured configs: the schema every YAML file in ``conf/`` is merged into.

Hydra checks keys and types against these dataclasses while it composes the
config (a wrong key or type never reaches training); :func:`validate` then
checks the rules a type cannot express (bounds, counts, names). Both raise
:class:`ConfigError`-style one-line messages that the CLI prints as is.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from omegaconf import MISSING, ListConfig, OmegaConf


class ConfigError(ValueError):
    """Bad user input: the message is one line naming the key and what is allowed."""


class Logger(Enum):
    csv = "csv"  # metrics.csv (always written)
    tensorboard = "tensorboard"  # and TensorBoard events in <run dir>/tensorboard
    mlflow = "mlflow"  # and an MLflow run: a local store in <run dir>/mlruns, or $MLFLOW_TRACKING_URI's
    wandb = "wandb"  # and a Weights & Biases run: offline in <run dir>/wandb unless $WANDB_MODE says otherwise


class Device(Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class DType(Enum):
    float32 = "float32"
    float64 = "float64"


class ModelKind(Enum):
    mlp = "mlp"
    modified_mlp = "modified_mlp"  # Wang, Teng & Perdikaris 2021: two encoders, gated hidden layers
    pirate = "pirate"  # PirateNet (Wang, Li, Chen & Perdikaris 2024): adaptive residual gated blocks
    mscale = "mscale"


class MscaleStructure(Enum):
    scaled = "scaled"  # one network, first hidden layer K * (W0 x + b0)
    subnets = "subnets"  # sum_i g_i(a_i (W_i x + b_i))


class ScaleKind(Enum):
    linear = "linear"  # 1, 2, ..., N
    powers2 = "powers2"  # 1, 2, 4, ..., 2^(N-1)


class Adaptive(Enum):
    none = "none"
    layer = "layer"  # one trainable slope per hidden layer
    neuron = "neuron"  # one per neuron (Jagtap, Kawaguchi & Karniadakis 2020)


class InputScaling(Enum):
    bounds = "bounds"  # x_hat = 2 (x - lower) / (upper - lower) - 1, in [-1, 1]
    standard = "standard"  # sqrt(3) times that: mean 0 and standard deviation 1 over the domain
    none = "none"  # the coordinates as they are (DeepXDE's and PINNacle's networks)


class EncoderBias(Enum):
    """How the modified MLP's encoder biases start."""

    random = "random"  # normal, std sqrt(2 / (1 + width)): the gradient-pathologies code (wang_* presets)
    zero = "zero"  # jaxpi's Dense (bias_init zeros): the jaxpi presets


class Init(Enum):
    xavier_normal = "xavier_normal"
    xavier_uniform = "xavier_uniform"
    kaiming_normal = "kaiming_normal"
    kaiming_uniform = "kaiming_uniform"


class PhaseKind(Enum):
    adam = "adam"
    lbfgs = "lbfgs"
    gd = "gd"  # plain gradient descent (torch.optim.SGD, no momentum)
    sip = "sip"  # scale-invariant physics training (learned inverse problems only)


class SamplerMethod(Enum):
    lhs = "lhs"
    sobol = "sobol"
    uniform = "uniform"
    grid = "grid"  # m points per axis at the cell centres of m equal cells
    linspace = "linspace"  # m points per axis at linspace(lower, upper, m), both ends included (jaxpi's grids)
    hammersley = "hammersley"


@dataclass
class ObservationConfig:
    # points of the reference solution given to the network as data (0: none); drawn
    # once, at random (seeded), from the reference grid (or from the points of `at`); loss terms
    # data_<output>
    count: int = 0
    # a file of the observed points instead of the reference grid: one row per point, a column per
    # input variable (whitespace-separated text), relative to the data directory or absolute; the
    # values are the exact solution there. count 0 takes all its points. A PINNacle file
    # (pinnacle/<file>) is fetched when missing, as a reference file is
    at: str = ""
    # the outputs observed (empty: all of them)
    outputs: list[str] = field(default_factory=list)
    # Gaussian noise added to the data, relative to each output's standard deviation
    noise: float = 0.0
    # Gaussian noise of this standard deviation added to the data, in the outputs' own units
    # (PINNacle's HInv: 0.1)
    noise_sd: float = 0.0
    # conditions evaluated at the observed points instead of sampled ones (Raissi's Burgers
    # identification: the residual at the data points); their equation.points entry must equal count
    collocate: list[str] = field(default_factory=list)


@dataclass
class InteriorReferenceConfig:
    # this many uniform points strictly inside the box, laid out as DeepXDE's
    # uniform_points(n, boundary=False) lays them (PINNacle's test set: 2500 points for two
    # inputs, else 20000); 0: the equation's grid
    points: int = 0
    # a variable taken as time, as DeepXDE's space-time domain lays it out (the space points at
    # nt times linspace(t1, t0, nt) without t0); "": the whole box as one hypercube
    time: str = ""


@dataclass
class EquationConfig:
    # a module in pinnrun.problems ("nls"), or "package.module:ClassName" for a user's own
    name: str = MISSING
    # input variable -> [lower, upper], in the equation's variable order; for a domain that is not a
    # box, `geometry`: a geometry spec (pinnrun.geometry.from_spec: primitives, union, difference,
    # intersection, part names) over the variables given no bounds (the space variables)
    domain: dict[str, Any] = MISSING
    # condition -> number of collocation points (0 leaves the condition out)
    points: dict[str, int] = MISSING
    # equation-specific constants
    params: dict[str, Any] = field(default_factory=dict)
    # inverse problems: constants (names of params) trained with the network, from these
    # initial values; logged as param/<name>. The values in `params` are the true ones.
    unknowns: dict[str, float] = field(default_factory=dict)
    # unknowns trained as lambda = log(value) (the constant is exp(lambda), always positive);
    # their `unknowns` entry is still the initial value of the constant, e.g. exp(-6)
    log_unknowns: list[str] = field(default_factory=list)
    # conditions on the domain's faces whose `points` count is per face and whose loss term is the
    # sum over the faces of the per-face mean squares (else: the count is shared among the faces in
    # proportion to their size, and the term is one mean)
    per_face: list[str] = field(default_factory=list)
    observations: ObservationConfig = field(default_factory=ObservationConfig)
    # held-out random points where the outputs are compared with the exact solution: the
    # mean squared error is logged as test_loss (0: none)
    test_points: int = 0
    # a file of reference values on scattered points (COMSOL text export, CSV or HDF5; columns: the
    # variables, then the fields): the run's errors are taken there ("": the equation's own)
    reference: str = ""
    # an exact solution on a box: its errors taken at uniform interior points (PINNacle's test
    # points) instead of the equation's grid
    reference_interior: InteriorReferenceConfig = field(default_factory=InteriorReferenceConfig)


@dataclass
class ModelConfig:
    """The network (``model=``, conf/model/). The keys without a comment below:

    Attributes:
        width: neurons per hidden layer
        activation: the hidden layers' activation: tanh, sin, sigmoid, relu, softplus, gelu, silu,
            srelu, s2relu or phi
        init: how the weights start (the biases start at zero)
        n_scales: MscaleDNN: the number of scales N (scale_kind makes them 1..N or 1, 2, 4, ...)
        fourier_scale: the standard deviation s of the Fourier features' B ~ N(0, s^2)
        factorize_mean: the mean of the weight factorisation's s (g = exp(s))
        factorize_std: the standard deviation of the weight factorisation's s
        pi_init: PirateNet: the output layer starts as the least-squares fit of the initial
            condition on the reference grid (physics-informed initialisation)
    """

    name: ModelKind = ModelKind.mlp
    width: int = 100
    depth: int = 4  # hidden layers
    # hidden-layer widths one by one (e.g. [3000, 100, 100, 100]); when set, width and depth are unused
    widths: list[int] | None = None
    activation: str = "tanh"
    # locally adaptive activations: sigma(n * a * z) with trainable slopes a, n * a = 1 at
    # the start, and the slope-recovery loss term 1 / mean_k exp(mean a of layer k)
    adaptive: Adaptive = Adaptive.none
    adaptive_scale: float = 10.0  # n
    init: Init = Init.xavier_normal
    # how the inputs reach the network: mapped onto [-1, 1] by the domain's bounds, or standardised
    # (mean 0, standard deviation 1 of a uniform draw over the domain: the bounds map times sqrt(3),
    # as the Wang et al. codes standardise by 1e5 uniform interior points)
    inputs: InputScaling = InputScaling.bounds
    # the modified MLP's two encoders: their biases drawn at random or zero (EncoderBias)
    encoder_bias: EncoderBias = EncoderBias.random
    # MscaleDNN only (Liu, Cai & Xu 2020)
    structure: MscaleStructure = MscaleStructure.scaled
    scale_kind: ScaleKind = ScaleKind.linear
    n_scales: int = 8
    scales: list[float] | None = None  # explicit scales; overrides scale_kind/n_scales
    # -- input embeddings and reparametrisation, for every model (Wang, Wang & Perdikaris 2023,
    # "An expert's guide to training PINNs"; jaxpi's archs.py) ---------------------------------
    # variables embedded exactly periodically, x_hat -> (cos(pi x_hat), sin(pi x_hat)): the
    # network is periodic in them with the domain's length as the period by construction
    periodic: list[str] = field(default_factory=list)
    # variables embedded as (cos(w v), sin(w v)) of the physical v, the angular frequency w trained
    # from this value (jaxpi's trainable period: time in its advection example, w = 2 pi)
    learned_periods: dict[str, float] = field(default_factory=dict)
    # random Fourier features of the (embedded) input, [cos(x B), sin(x B)], B (d, features / 2)
    # drawn N(0, fourier_scale^2) and trained; 0: none
    fourier_features: int = 0
    fourier_scale: float = 1.0
    # random weight factorisation of every linear layer: W = diag(g) V, g = exp(s) with s drawn
    # N(factorize_mean, factorize_std^2) per output neuron, V = W_init / g; g and V trained (jaxpi)
    factorize: bool = False
    factorize_mean: float = 1.0
    factorize_std: float = 0.1
    # PirateNet only: the blocks' residual gates alpha start here (0: every block the identity),
    # and the last layer starts as the least-squares fit of the initial condition (pi_init)
    alpha: float = 0.0
    pi_init: bool = True
    # an output transform that satisfies some conditions exactly (the equation's
    # ``hard_constraint``); those conditions' loss terms are dropped
    hard_constraints: bool = False


@dataclass
class PhaseConfig:
    """One phase of the optimizer recipe (``optimizer.phases``); one step is one iteration.

    Attributes:
        steps: the phase's optimizer iterations (L-BFGS: iterations, each with its line search)
        lr: the learning rate (L-BFGS: the step length its line search starts from, 1)
        decay_steps: Adam: the steps over which the learning rate falls by decay_rate
        tolerance_grad: L-BFGS stops when the gradient's largest entry falls below this
        tolerance_change: L-BFGS stops when the loss or the step changes by less than this
    """

    kind: PhaseKind = PhaseKind.adam
    steps: int = 1000
    lr: float = 1e-3
    # Adam: lr * decay_rate ** (step_in_phase / decay_steps); decay_rate 1 = constant
    decay_rate: float = 1.0
    decay_steps: int = 1000
    # Adam: a linear warmup first, lr * step_in_phase / warmup_steps (0 at the first step), then the
    # decay above counted from its end (optax.join_schedules of linear_schedule and
    # exponential_decay, as jaxpi configures it); 0 = none
    warmup_steps: int = 0
    # sip: the Newton step in y-space, y_target = y + eta (y* - y); the network trains by Adam
    # (lr, decay as above) on 1/2 |x - x_tilde|^2
    eta: float = 1.0
    # L-BFGS (torch.optim.LBFGS, strong-Wolfe line search)
    history_size: int = 50
    tolerance_grad: float = 1e-9
    tolerance_change: float = 1e-12


@dataclass
class OptimizerConfig:
    """The optimizer recipe (``optimizer=``, conf/optimizer/).

    Attributes:
        phases: the phases, run one after another (Adam, then L-BFGS, ...)
    """

    phases: list[PhaseConfig] = field(default_factory=lambda: [PhaseConfig()])


class GradStats(Enum):
    """How gradnorm measures a gradient's size (pinnrun/weighting.py)."""

    layers = "layers"  # the authors' code: weight matrices only, max of per-layer maxima, mean of per-layer means
    flat = "flat"  # eq. 40 as printed: every network parameter as one vector
    # before 0.2: the expert's guide's scheme, now weighting=gradnorm_mean (refused with a line saying so)
    norm = "norm"


#: the condition that holds an equation's PDE residual, by convention: the reference of
#: weighting=gradnorm, causal training's default condition, what pinnrun.load(...).residual evaluates
PDE_CONDITION = "residual"


class TraceMethod(Enum):
    exact = "exact"  # per-point parameter gradients (torch.func vmap)
    hutchinson = "hutchinson"  # randomized: E ||J^T v||^2, v Rademacher


@dataclass
class CausalConfig:
    """Causal training (Wang, Sankaran & Perdikaris 2022, "Respecting causality is all you need"):
    the points of one condition sorted along one variable (time) into ``chunks`` equal parts with
    mean squares L_1..L_M; the term is mean_i w_i L_i, w_i = exp(-tol * sum_{k<i} L_k) (no
    gradient through w). ``tol`` is a schedule: the next value is taken when min_i w_i > ``delta``.

    Attributes:
        tol: the schedule of tol, the causality parameter (the last value stays)
        delta: the next tol is taken after a step with min_i w_i above this
        condition: the condition whose points are sorted into chunks
        variable: the variable the points are sorted along (time)
    """

    chunks: int = 0  # M; 0: off
    tol: list[float] = field(default_factory=lambda: [1.0])
    delta: float = 0.99
    condition: str = PDE_CONDITION
    variable: str = "t"


@dataclass
class WeightingConfig:
    # fixed | ntk | gradnorm (pinnrun/weighting.py)
    name: str = "fixed"
    # loss terms that share one weight: group -> its terms. A group's loss is the sum of its terms';
    # one weight per group (and per term outside every group), logged as weight/<group>
    groups: dict[str, list[str]] = field(default_factory=dict)
    # group or term -> weight (fixed), or starting weight (adaptive); those not named get 1.0
    weights: dict[str, float] = field(default_factory=dict)
    # adaptive schemes: recompute the weights every N steps (step 0 included)
    update_every: int = 100
    # moving average w <- (1 - alpha) w + alpha w_new; 1 = no smoothing
    alpha: float = 1.0
    # also update during L-BFGS phases (the L-BFGS history restarts at each update)
    lbfgs_updates: bool = False
    # first-order phases: recompute after the optimizer step, on that step's points, and train with
    # the new weights from the next step on (the authors' codes: GradientPathologiesPINNs, PINNsNTK,
    # jaxpi); false: before the step's loss, on the parameters before the step (Algorithm 1 as printed)
    update_after_step: bool = False
    # gradnorm: layers (the authors' published code) | flat (the paper's eq. 40 as printed)
    grad_stats: GradStats = GradStats.layers
    # ntk: points per loss term the kernel trace is computed on (a random subsample; 0: all of them)
    points: int = 300
    trace: TraceMethod = TraceMethod.exact
    probes: int = 16  # hutchinson: random vectors per trace
    chunk: int = 16  # exact: points per vmap batch (bounds memory: chunk x parameters)
    # ntk: write the eigenvalues of each term's kernel at every update to <run dir>/ntk.h5
    spectrum: bool = False
    # causal training of one condition's term, combinable with every scheme
    causal: CausalConfig = field(default_factory=CausalConfig)


@dataclass
class RadConfig:
    """Residual-based adaptive distribution (RAD; Wu, Zhu, Tan, Kartha & Lu 2023): at every
    resampling round the points of these conditions are drawn from ``candidates`` fresh points
    with probability proportional to |r|^k / mean |r|^k + c, |r| the residual's norm there.

    Attributes:
        candidates: fresh points scored at each round
        k: the exponent of the residual's norm in the density
        c: the constant added to the normalised density (c large: uniform points)
    """

    conditions: list[str] = field(default_factory=list)  # none: RAD off
    candidates: int = 100000
    k: float = 1.0
    c: float = 1.0


@dataclass
class SamplerConfig:
    """How the collocation points are drawn (``sampler=``, conf/sampler/).

    Attributes:
        method: the draw of every condition's points (scipy.stats.qmc where it has one)
    """

    method: SamplerMethod = SamplerMethod.lhs
    # draw fresh points every N steps (0: never)
    resample_every: int = 0
    # condition -> method, for conditions that should not use `method`
    per_condition: dict[str, SamplerMethod] = field(default_factory=dict)
    # residual-based adaptive sampling of some conditions (needs resample_every > 0)
    rad: RadConfig = field(default_factory=RadConfig)


@dataclass
class TrainerConfig:
    """How a run trains, logs and saves (``trainer=``, conf/trainer/default.yaml).

    Attributes:
        device: where the run trains: ``auto`` (CUDA when there is a GPU, else the CPU), ``cpu`` or
            ``cuda``
        dtype: the network's and the points' floating-point type
        log_every: a metrics.csv row every N steps
        eval_every: the relative L2 error against the reference every N steps (and at the end)
        checkpoint_every: checkpoints/last.pt every N steps (and at the end)
        resume: continue the run in hydra.run.dir from its checkpoints/last.pt
        progress: the progress bar on the console
    """

    device: Device = Device.auto
    dtype: DType = DType.float32
    # cap on optimizer iterations over all phases (smoke runs); null = no cap
    max_steps: int | None = None
    log_every: int = 100
    eval_every: int = 1000
    checkpoint_every: int = 1000
    resume: bool = False
    progress: bool = True
    # the figures of plots/ at the end of the run (and in the experiment tracker); false: none
    # (a sweep of many short runs; draw one run's later with `python -m pinnrun.plots RUN_DIR`)
    plots: bool = True
    # the PINN training step through torch.compile (loss, input derivatives in Taylor mode,
    # backward): compiling takes 10-30 s on a small CPU, then NLS steps run 3x faster; one warning
    # line and the eager step where it cannot compile
    compile: bool = True
    # with compile on a CUDA device: the step captured in CUDA graphs (mode reduce-overhead)
    cuda_graphs: bool = True
    # TensorFloat-32 matrix products on CUDA: faster, about 3 digits. Off: a reproduction's
    # accuracy comes first
    tf32: bool = False
    # CPU threads of the run's tensor operations (null: torch's default, all cores; under a joblib
    # sweep an equal share of them). On the CPU results depend on it: recorded in summary.json and
    # part of the config hash
    threads: int | None = None


@dataclass
class Published:
    """What an experiment preset reproduces (its ``published:`` keys).

    Attributes:
        source: the paper and the section or figure the number is from
    """

    source: str = ""
    field: str = ""  # evaluated field the number refers to, e.g. h_abs
    l2: float | None = None  # published relative L2 error
    claim: str = ""  # the published finding, where it is not one L2 error


@dataclass
class RunConfig:
    """A whole run: one config per group, and the top-level keys.

    Attributes:
        seed: seeds the network's initialisation and the samplers (the same seed, device,
            threads and config give the same numbers)
    """

    equation: EquationConfig = MISSING
    model: ModelConfig = MISSING
    optimizer: OptimizerConfig = MISSING
    weighting: WeightingConfig = MISSING
    sampler: SamplerConfig = MISSING
    trainer: TrainerConfig = MISSING
    seed: int = 0
    logger: Logger = Logger.csv
    # set by experiment presets: the paper's number this run reproduces
    published: Published | None = None


def config_hash(cfg: RunConfig, groups: tuple[str, ...], threads: int | None = None, processes: int = 1) -> str:
    """Hash of the settings that decide a task's numbers: its config ``groups``, the seed, the
    dtype, for a run on the CPU the thread count, and the number of processes of a distributed
    run (not logging, max_steps or resume), so a checkpoint resumes only the run it belongs to."""
    # the groups one by one: the whole config as a structured node costs twice as much (every build)
    keep = {k: OmegaConf.structured(getattr(cfg, k)) for k in groups}
    keep["seed"] = cfg.seed
    keep["dtype"] = OmegaConf.structured(cfg.trainer).dtype
    if threads is not None:
        keep["threads"] = threads
    if processes > 1:  # the sums over ranks round differently from one process's
        keep["processes"] = processes
    return hashlib.sha256(OmegaConf.to_yaml(OmegaConf.create(keep)).encode()).hexdigest()[:16]


def unused_setting(cfg: Any, used: tuple[str, ...], prefix: str = "") -> tuple[str, Any] | None:
    """The first setting of ``cfg`` (a RunConfig; or one of its groups, its keys under ``prefix``)
    that differs from the schema's default and that ``used`` does not name, as (dotted key, value);
    None if there is none. ``used``: the dotted keys and whole groups a task reads ("trainer",
    "model.width"). Groups are compared key by key with their dataclass's defaults; a dict or list
    with its default (an empty one for most); a key without a default (???) changes when it is set."""
    from dataclasses import fields, is_dataclass

    for f in fields(cfg):
        key, value = prefix + f.name, getattr(cfg, f.name)
        if any(key == u or key.startswith(u + ".") for u in used):
            continue
        if is_dataclass(value):
            found = unused_setting(value, used, key + ".")
            if found is not None:
                return found
            continue
        default = f.default_factory() if callable(f.default_factory) else f.default
        if value != default and not (default == MISSING and not value):
            return key, value
    return None


def register() -> None:
    """Register the schema with Hydra's ConfigStore (conf/config.yaml extends it)."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="pinnrun_schema", node=RunConfig)
    OmegaConf.register_new_resolver("pinnrun_jobs", parallel_jobs, replace=True)
    OmegaConf.register_new_resolver(
        "pinnrun_now", lambda pattern: start_time().strftime(pattern), use_cache=True, replace=True
    )


_SHARED_START: list[datetime.datetime] = []


def start_time(shared: datetime.datetime | None = None) -> datetime.datetime:
    """The time a run directory's name is made of (``${pinnrun_now:...}`` in conf/config.yaml,
    Hydra's ``now`` otherwise): now, or once ``shared`` is given (rank 0's clock), that time, so
    that every process of a distributed run names the same directory."""
    if shared is not None:
        _SHARED_START[:] = [shared]
    return _SHARED_START[0] if _SHARED_START else datetime.datetime.now()


def parallel_jobs() -> int:
    """Jobs at a time for ``hydra/launcher=joblib``: one per GPU when there are several, else a
    bounded number of CPU jobs (at most 4), which share the cores (see cli.placement)."""
    import torch

    gpus = torch.cuda.device_count()
    return gpus if gpus > 1 else max(1, min(4, os.cpu_count() or 1))


#: the packages each logger needs (an extra of pinnrun's of the logger's name); MLflow's local
#: store is an SQLite database, through SQLAlchemy and Alembic
LOGGER_PACKAGES = {
    "tensorboard": ("tensorboard",),
    "mlflow": ("mlflow", "sqlalchemy", "alembic"),
    "wandb": ("wandb",),
}


def check_logger(logger: Logger) -> None:
    """The logger's packages are installed (one line naming the extra if not); for MLflow, a
    tracking URI the user set is not a file store (it keeps a metric ``loss`` as a file, so
    ``loss/<term>`` cannot go next to it)."""
    import importlib.util

    name = logger.value
    for package in LOGGER_PACKAGES.get(name, ()):
        if importlib.util.find_spec(package) is None:
            raise ConfigError(f"logger={name} needs the {name} package: pip install 'pinnrun[{name}]'")
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if logger is Logger.mlflow and uri and ("://" not in uri or uri.startswith("file:")):
        raise ConfigError(
            f"logger=mlflow: MLFLOW_TRACKING_URI={uri} is a file store, which cannot hold the metrics loss and "
            "loss/<term> together; use a database (sqlite:///<path>/mlflow.db) or a tracking server"
        )


#: Hydra's plugins in pinnrun's sweeps extra, by the config group options they ship (pinnrun's
#: conf/hydra/launcher/slurm.yaml extends submitit_slurm; its joblib.yaml names the joblib launcher)
SWEEP_PLUGINS = {
    "hydra/launcher/joblib": "hydra_joblib_launcher",
    "hydra/launcher/submitit_local": "hydra_submitit_launcher",
    "hydra/launcher/submitit_slurm": "hydra_submitit_launcher",
    "hydra/sweeper/optuna": "hydra_optuna_sweeper",
}


def missing_sweeps_extra(group: str, option: Any, plugin: str) -> str | None:
    """The line for ``group=option`` when it needs ``plugin`` (under hydra_plugins), one of the
    sweeps extra's, and that is not installed; else None."""
    if plugin not in SWEEP_PLUGINS.values():
        return None
    import importlib.util

    try:
        if importlib.util.find_spec(f"hydra_plugins.{plugin}") is not None:
            return None
    except ImportError:  # no hydra_plugins at all: no plugin is installed
        pass
    return f"{group}={option} needs the sweeps extra: pip install 'pinnrun[sweeps]'"


def describe_error(e: BaseException) -> str:
    """One line for an error in the user's input (a ConfigError, or Hydra's or OmegaConf's)."""
    from hydra.errors import MissingConfigException, SearchPathException
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(e, MissingConfigException) and e.missing_cfg_file in SWEEP_PLUGINS:
        # the option the user chose: the missing one, or the config that extends it (hydra/launcher=slurm)
        chosen = e.missing_cfg_file
        if str(e).startswith("In '") and str(e).split("'")[1].rpartition("/")[0] == chosen.rpartition("/")[0]:
            chosen = str(e).split("'")[1]
        group, _, option = chosen.rpartition("/")
        line = missing_sweeps_extra(group, option, SWEEP_PLUGINS[e.missing_cfg_file])
        if line:
            return line
    if isinstance(e, SearchPathException) and "Additional config directory" in str(e):
        where = str(e).split("'")[1] if str(e).count("'") >= 2 else ""
        if where:  # Hydra says 'not found' for a file as well
            problem = (
                "is a file, not a directory"
                if os.path.isfile(where)
                else "is not a directory"
                if os.path.lexists(where)
                else "does not exist"
            )
            return f"config directory {where} (--config-dir) {problem}"
    if isinstance(e, MissingConfigException) and e.options is not None and e.missing_cfg_file:
        group, _, option = e.missing_cfg_file.rpartition("/")
        return f"unknown {group} '{option}' (choose from: {', '.join(sorted(e.options))})"
    cause = e.__cause__ if isinstance(e.__cause__, OmegaConfBaseException) else None
    if cause is None and isinstance(e, OmegaConfBaseException):
        cause = e
    if cause is not None:
        msg = str(getattr(cause, "msg", "") or cause).splitlines()[0]
        key = getattr(cause, "full_key", None)
        return f"{key}: {msg}" if key and key not in msg else msg
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return " ".join(lines[:2]) if lines else type(e).__name__


def _positive(value: Any, key: str) -> None:
    if value is None or value <= 0:
        raise ConfigError(f"{key} must be a positive number, got {value}")


def validate(cfg: Any) -> None:
    """Rules types cannot express. ``cfg`` is the composed DictConfig."""
    check_logger(cfg.logger)
    if cfg.weighting.grad_stats == GradStats.norm:
        raise ConfigError(
            "weighting.grad_stats=norm: the expert's guide's grad-norm weights are their own scheme since "
            "pinnrun 0.2: weighting=gradnorm_mean (CHANGELOG.md)"
        )
    eq = cfg.equation
    if not eq.domain:
        raise ConfigError("equation.domain is empty: give each input variable [lower, upper]")
    for var, bounds in eq.domain.items():
        if var == "geometry":  # a geometry spec: checked as it is built (pinnrun.geometry.from_spec)
            continue
        numbers = isinstance(bounds, ListConfig) and all(
            isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds
        )
        if not numbers or len(bounds) != 2:
            shown = list(bounds) if isinstance(bounds, ListConfig) else bounds
            raise ConfigError(
                f"equation.domain.{var} must be [lower, upper] (or, over several variables, a geometry), got {shown}"
            )
        lo, hi = bounds
        if not lo < hi:
            raise ConfigError(f"equation.domain.{var}: lower bound {lo} must be below upper bound {hi}")
    for cond, n in eq.points.items():
        if n < 0:
            raise ConfigError(f"equation.points.{cond} must be >= 0, got {n}")
    observed = eq.observations.count > 0 or bool(eq.observations.at)
    if not any(eq.points.values()) and not observed:
        raise ConfigError("equation.points: every condition has 0 points and there are no observations")
    if eq.observations.count < 0:
        raise ConfigError(f"equation.observations.count must be >= 0, got {eq.observations.count}")
    if eq.test_points < 0:
        raise ConfigError(f"equation.test_points must be >= 0, got {eq.test_points}")
    for key in ("noise", "noise_sd"):
        if eq.observations[key] < 0:
            raise ConfigError(f"equation.observations.{key} must be >= 0, got {eq.observations[key]}")
    for cond in eq.observations.collocate:
        if eq.observations.count == 0:
            raise ConfigError("equation.observations.collocate needs observations (equation.observations.count > 0)")
        if eq.points.get(cond) != eq.observations.count:
            raise ConfigError(
                f"equation.points.{cond} must equal equation.observations.count ({eq.observations.count}): "
                "the condition is collocated with the observations"
            )
    unknown = set(eq.log_unknowns) - set(eq.unknowns)
    if unknown:
        raise ConfigError(f"equation.log_unknowns: {sorted(unknown)} are not in equation.unknowns")
    for k in eq.log_unknowns:
        if eq.unknowns[k] <= 0:
            raise ConfigError(
                f"equation.unknowns.{k} must be > 0 to be trained as log (equation.log_unknowns), got {eq.unknowns[k]}"
            )

    m = cfg.model
    _positive(m.width, "model.width")
    _positive(m.depth, "model.depth")
    if m.widths is not None and (len(m.widths) == 0 or min(m.widths) < 1):
        raise ConfigError(f"model.widths must be a non-empty list of positive integers, got {list(m.widths)}")
    if m.name in (ModelKind.modified_mlp, ModelKind.pirate) and m.widths is not None and len(set(m.widths)) != 1:
        raise ConfigError(f"model={m.name.value}: every hidden layer has the encoders' width, got {list(m.widths)}")
    if m.name == ModelKind.mscale:
        _positive(m.n_scales, "model.n_scales")
        if m.scales is not None and (len(m.scales) == 0 or min(m.scales) <= 0):
            raise ConfigError(f"model.scales must be a non-empty list of positive numbers, got {list(m.scales)}")

    if not cfg.optimizer.phases:
        raise ConfigError("optimizer.phases is empty: give at least one phase")
    for i, ph in enumerate(cfg.optimizer.phases):
        if ph.steps < 0:
            raise ConfigError(f"optimizer.phases.{i}.steps must be >= 0, got {ph.steps}")
        _positive(ph.lr, f"optimizer.phases.{i}.lr")
        _positive(ph.decay_rate, f"optimizer.phases.{i}.decay_rate")
        _positive(ph.decay_steps, f"optimizer.phases.{i}.decay_steps")
        if ph.warmup_steps < 0:
            raise ConfigError(f"optimizer.phases.{i}.warmup_steps must be >= 0, got {ph.warmup_steps}")
        if ph.warmup_steps and ph.kind is PhaseKind.lbfgs:
            raise ConfigError(f"optimizer.phases.{i}.warmup_steps: an L-BFGS phase has no learning-rate schedule")
        _positive(ph.history_size, f"optimizer.phases.{i}.history_size")
        _positive(ph.eta, f"optimizer.phases.{i}.eta")

    w = cfg.weighting
    for key in ("update_every", "probes", "chunk"):
        _positive(getattr(w, key), f"weighting.{key}")
    if w.points < 0:
        raise ConfigError(f"weighting.points must be >= 0 (0: all of a term's points), got {w.points}")
    if not 0 < w.alpha <= 1:
        raise ConfigError(f"weighting.alpha must be in (0, 1], got {w.alpha}")
    cz = w.causal
    if cz.chunks < 0:
        raise ConfigError(f"weighting.causal.chunks must be >= 0 (0: causal training off), got {cz.chunks}")
    if not cz.tol or min(cz.tol) <= 0:
        raise ConfigError(f"weighting.causal.tol must be a non-empty list of positive numbers, got {list(cz.tol)}")
    if not 0 < cz.delta <= 1:
        raise ConfigError(f"weighting.causal.delta must be in (0, 1], got {cz.delta}")

    if cfg.sampler.resample_every < 0:
        raise ConfigError(f"sampler.resample_every must be >= 0, got {cfg.sampler.resample_every}")

    t = cfg.trainer
    if t.max_steps is not None and t.max_steps < 0:
        raise ConfigError(f"trainer.max_steps must be >= 0, got {t.max_steps}")
    for key in ("log_every", "eval_every", "checkpoint_every"):
        _positive(getattr(t, key), f"trainer.{key}")
    if t.threads is not None:
        _positive(t.threads, "trainer.threads")
