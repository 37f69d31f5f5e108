"""Scattered-point references: PINNacle's COMSOL exports, CSV and HDF5 round trips, the errors, and
the uniform interior points PINNacle tests an exact solution at."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from pinnrun.config import ConfigError
from pinnrun.reference.points import PointReference, read_points, sha256, uniform_interior

PINNACLE = Path(__file__).resolve().parents[2] / "shared" / "pinnacle"

# the four disk holes of PINNacle's Poisson2d-C domain, [-0.5, 0.5]^2 minus these
HOLES = np.array([[0.3, 0.3], [-0.3, 0.3], [0.3, -0.3], [-0.3, -0.3]])


def config_error(call, start: str) -> str:
    """The message of the ConfigError that ``call()`` raises: it starts with ``start``, one line."""
    with pytest.raises(ConfigError) as info:
        call()
    message = str(info.value)
    assert message.startswith(start), message
    assert "\n" not in message
    return message


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- PINNacle's files -------------------------------------------------------------------------


def test_sha256_matches_hashlib_on_a_small_file(tmp_path):
    path = write(tmp_path / "a.txt", "abc")
    assert sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_a_time_series_export_is_expanded_into_rows(shared):
    ref = read_points(shared("burgers1d.dat"), ("t", "x"), ("u",), time="t")
    assert isinstance(ref, PointReference)
    assert ref.variables == ("t", "x")
    assert ref.points.shape == (1111, 2) and ref.points.dtype == np.float64
    assert ref.fields["u"].shape == (1111,)
    t, x, u = ref.points[:, 0], ref.points[:, 1], ref.fields["u"]
    assert np.allclose(np.unique(t), np.linspace(0, 1, 11))
    assert len(np.unique(x)) == 101 and x.min() == -1 and x.max() == 1
    # t-major: the first 101 rows are t = 0, the next 101 t = 0.1
    assert (t[:101] == 0).all() and np.allclose(t[101:202], 0.1)
    assert (np.diff(t) >= 0).all()
    # the initial condition u(x, 0) = -sin(pi x), as COMSOL exported it (to 3.2e-6)
    assert np.abs(u[t == 0] + np.sin(np.pi * x[t == 0])).max() < 5e-6
    # read by hand from the file: the row x = -0.98, column "u (1) @ t=0.2"
    (row,) = np.flatnonzero(np.isclose(t, 0.2) & np.isclose(x, -0.98))
    assert u[row] == 0.03811340019532789


def test_the_lid_driven_cavity_holds_its_boundary_conditions(shared):
    ref = read_points(shared("lid_driven_a4.dat"), ("x", "y"), ("u", "v", "p"))
    # grep -vc '^%' lid_driven_a4.dat
    assert ref.points.shape == (10201, 2)
    x, y = ref.points.T
    u, v = ref.fields["u"], ref.fields["v"]
    walls = (x == 0) | (x == 1) | (y == 0)
    assert walls.sum() == 301
    assert (u[walls] == 0).all() and (v[walls] == 0).all()
    # the lid y = 1 moves at u = 4x(1-x): COMSOL's nodal values agree to 2.7e-4, not exactly
    lid = (y == 1) & (x > 0) & (x < 1)
    assert lid.sum() == 99
    assert np.abs(u[lid] - 4 * x[lid] * (1 - x[lid])).max() < 5e-4
    assert np.abs(v[lid]).max() < 5e-4
    assert ref.fields["p"].shape == (10201,)


def test_units_in_the_header_are_ignored_and_the_inflow_is_parabolic(shared):
    ref = read_points(shared("ns_0_obstacle.dat"), ("x", "y"), ("u", "v", "p"))
    assert ref.points.shape == (12910, 2)
    x, y = ref.points.T
    assert x.min() == 0 and x.max() == 4 and y.min() == 0 and y.max() == 2
    inlet = x == 0
    assert inlet.sum() == 47 and y[inlet].max() == 1
    assert np.abs(ref.fields["u"][inlet] - 4 * y[inlet] * (1 - y[inlet])).max() < 1e-12
    assert (ref.fields["v"][inlet] == 0).all()


def test_the_poisson_domain_is_the_square_minus_four_disks(shared):
    ref = read_points(shared("poisson1_cg_data.dat"), ("x", "y"), ("u",))
    assert ref.points.shape == (1246, 2)
    x, y = ref.points.T
    u = ref.fields["u"]
    assert (np.abs(ref.points) <= 0.5).all()
    distance = np.hypot(x[:, None] - HOLES[:, 0], y[:, None] - HOLES[:, 1]).min(axis=1)
    assert distance.min() > 0.1 - 1e-12  # no node inside a hole
    outer = (np.abs(x) == 0.5) | (np.abs(y) == 0.5)
    on_holes = distance < 0.1 + 1e-12
    assert outer.sum() == 108 and on_holes.sum() == 112
    assert (u[outer] == 1).all() and (u[on_holes] == 0).all()  # u = 1 outside, 0 on the holes
    assert u.min() == 0 and u.max() == 1  # and the maximum principle inside


def test_the_poisson_boltzmann_export_reads_as_three_columns(shared):
    ref = read_points(shared("poisson_boltzmann2d.dat"), ("x", "y"), ("u",))
    assert ref.points.shape == (3236, 2)
    assert (np.abs(ref.points) <= 1).all()
    assert ref.points[0].tolist() == [-1.0, -0.9600000000000002] and ref.fields["u"][0] == 0.20000000000000004


def test_a_long_heat_series_expands_to_space_rows_times_time_columns(shared):
    path = shared("heat_longtime.dat")
    ref = read_points(path, ("x", "y", "t"), ("u",), time="t")
    assert ref.points.shape == (192 * 501, 3)
    t = ref.points[:, 2]
    steps = np.unique(t)
    assert np.allclose(steps, np.linspace(0, 100, 501))
    assert (np.diff(t) >= 0).all()
    # against the file read plainly: block k is column 2 + k, the space columns repeated
    table = np.loadtxt(path, comments="%")
    assert table.shape == (192, 503)
    assert np.array_equal(ref.points[:, :2], np.tile(table[:, :2], (501, 1)))
    assert np.array_equal(ref.fields["u"].reshape(501, 192), table[:, 2:].T)
    assert ref.points[192].tolist() == [0.03125, 0.041666666666666664, 0.2]
    assert ref.fields["u"][192] == 0.1440772725789644


def test_the_heat_inverse_observation_points_are_points_without_fields(shared):
    # no header: PINNacle's HeatInv loads the file as (x, y, t) observation points
    ref = read_points(shared("heatinv_points.dat"), ("x", "y", "t"), (), time="t")
    assert ref.points.shape == (2500, 3) and ref.fields == {}
    assert (np.abs(ref.points[:, :2]) <= 1).all()
    assert (ref.points[:, 2] >= 0).all() and (ref.points[:, 2] <= 1).all()
    assert ref.points[0].tolist() == [4.622657564380105999e-01, 8.642655697627712463e-01, 5.970912013728797429e-01]


# --- formats made here -------------------------------------------------------------------------


def test_time_columns_are_grouped_by_t_and_fields_by_first_appearance(tmp_path):
    path = write(
        tmp_path / "two.txt",
        "% Model:  x\n"
        "% x         v (1) @ t=1     u (1) @ t=1     v (1) @ t=0     u (1) @ t=0\n"
        "0.0   1  2  3  4\n"
        "0.5   5  6  7  8\n",
    )
    ref = read_points(path, ("t", "x"), ("a", "b"), time="t")
    assert ref.points.tolist() == [[0, 0], [0, 0.5], [1, 0], [1, 0.5]]
    assert ref.fields["a"].tolist() == [3, 7, 1, 5]  # v: the first field in the file
    assert ref.fields["b"].tolist() == [4, 8, 2, 6]


def test_a_re_suffix_is_not_a_time_and_e_notation_parses(tmp_path):
    path = write(tmp_path / "re.dat", "% x    y    u @ Re=100\n0 1 -3.0E-6\n1e-1 2 4\n")
    ref = read_points(path, ("x", "y"), ("u",))
    assert ref.points.tolist() == [[0, 1], [0.1, 2]]
    assert ref.fields["u"].tolist() == [-3e-6, 4]


def test_a_csv_file_is_read_by_name_in_any_order(tmp_path):
    rng = np.random.default_rng(0)
    table = rng.random((20, 4))
    path = tmp_path / "ref.csv"
    np.savetxt(path, table, delimiter=",", header="u (m/s),y,extra,x")
    ref = read_points(path, ("x", "y"), ("u",))
    assert np.array_equal(ref.points, table[:, [3, 1]])
    assert np.array_equal(ref.fields["u"], table[:, 0])


def test_a_csv_file_without_matching_names_is_read_by_position(tmp_path):
    table = np.arange(12.0).reshape(4, 3)
    path = tmp_path / "ref.csv"
    np.savetxt(path, table, delimiter=",", header="a,b,c", comments="")
    ref = read_points(path, ("x", "t"), ("u",), time="t")
    assert np.array_equal(ref.points, table[:, :2]) and np.array_equal(ref.fields["u"], table[:, 2])
    np.savetxt(path, table, delimiter=",")  # no header at all
    assert np.array_equal(read_points(path, ("x", "t"), ("u",)).points, table[:, :2])


def test_an_hdf5_file_round_trips(tmp_path):
    rng = np.random.default_rng(1)
    x, t, u, v = rng.random((4, 30))
    path = tmp_path / "ref.h5"
    with h5py.File(path, "w") as f:
        f["points/t"], f["points/x"], f["ref/u"], f["ref/v"], f["fields/u"] = t, x, u, v, u + 1
    ref = read_points(path, ("x", "t"), ("v", "u"))
    assert np.array_equal(ref.points, np.stack([x, t], axis=1))
    assert np.array_equal(ref.fields["u"], u) and np.array_equal(ref.fields["v"], v)
    assert ref.source == str(path)


# --- errors ------------------------------------------------------------------------------------


def test_a_missing_file_is_named(tmp_path):
    path = tmp_path / "nope.dat"
    config_error(lambda: read_points(path, ("x",), ("u",)), f"reference file {path} does not exist")


def test_an_unknown_suffix_lists_the_supported_ones(tmp_path):
    path = write(tmp_path / "ref.xyz", "0 1\n")
    message = config_error(lambda: read_points(path, ("x",), ("u",)), f"reference file {path}: unknown format '.xyz'")
    assert message.endswith("supported are .csv, .dat, .h5, .hdf5, .txt")


def test_a_wrong_column_count_names_the_expected_columns(tmp_path):
    path = write(tmp_path / "ref.dat", "% x    y    u    v\n0 0 1 2\n1 1 3 4\n")
    config_error(
        lambda: read_points(path, ("x", "y"), ("u", "v", "p")),
        f"reference file {path}: 4 columns, expected 5 (x, y, u, v, p)",
    )
    csv = write(tmp_path / "ref.csv", "a,b,c,d\n0,0,1,2\n")
    config_error(
        lambda: read_points(csv, ("x", "y"), ("u", "v", "p")),
        f"reference file {csv}: 4 columns, expected 5 (x, y, u, v, p)",
    )


def test_a_row_of_another_length_is_named_by_line(tmp_path):
    path = write(tmp_path / "ref.dat", "% x    u\n0 1\n1 2 3\n")
    config_error(
        lambda: read_points(path, ("x",), ("u",)), f"reference file {path}: line 3 holds 3 values, line 2 holds 2"
    )


def test_non_numeric_content_is_named_by_line(tmp_path):
    path = write(tmp_path / "ref.dat", "% x    u\n0 1\n1 abc\n")
    config_error(
        lambda: read_points(path, ("x",), ("u",)), f"reference file {path}: line 3, column 2: 'abc' is not a number"
    )
    csv = write(tmp_path / "ref.csv", "x,u\n0,1\n1,\n")
    config_error(
        lambda: read_points(csv, ("x",), ("u",)), f"reference file {csv}: line 3, column 2: '' is not a number"
    )


def test_rows_holding_nan_or_inf_are_an_error(tmp_path):
    path = write(tmp_path / "ref.dat", "0 1\n1 nan\n2 3\n3 inf\n")
    message = config_error(
        lambda: read_points(path, ("x",), ("u",)), f"reference file {path}: 2 of 4 rows hold NaN or inf"
    )
    assert "line 2" in message
    h5 = tmp_path / "ref.h5"
    with h5py.File(h5, "w") as f:
        f["points/x"], f["ref/u"] = [0.0, 1.0, 2.0], [0.0, np.nan, 1.0]
    config_error(lambda: read_points(h5, ("x",), ("u",)), f"reference file {h5}: 1 of 3 rows hold NaN or inf")


def test_a_file_without_data_rows_is_an_error(tmp_path):
    path = write(tmp_path / "ref.dat", "% Model: m\n% x    u\n\n")
    config_error(lambda: read_points(path, ("x",), ("u",)), f"reference file {path} holds no data rows")
    csv = write(tmp_path / "ref.csv", "x,u\n")
    config_error(lambda: read_points(csv, ("x",), ("u",)), f"reference file {csv} holds no data rows")


def test_time_columns_must_match_the_fields_in_count(tmp_path):
    path = write(tmp_path / "ref.dat", "% x    u @ t=0    v @ t=0    u @ t=1    v @ t=1\n0 1 2 3 4\n")
    config_error(
        lambda: read_points(path, ("x", "t"), ("u",), time="t"),
        f"reference file {path}: the time columns hold 2 fields (u, v), expected 1 (u)",
    )


def test_time_columns_need_a_time_variable(tmp_path):
    path = write(tmp_path / "ref.dat", "% x    u (1) @ t=0    u (1) @ t=1\n0 1 2\n")
    message = config_error(lambda: read_points(path, ("x",), ("u",)), f"reference file {path}: ")
    assert message.endswith("the equation has no time variable")


def test_time_series_columns_are_not_supported_in_csv(tmp_path):
    path = write(tmp_path / "ref.csv", "x,u @ t=0,u @ t=1\n0,1,2\n")
    message = config_error(lambda: read_points(path, ("x", "t"), ("u",), time="t"), f"reference file {path}: ")
    assert "not supported in CSV" in message


def test_missing_hdf5_datasets_are_listed_with_what_the_file_holds(tmp_path):
    path = tmp_path / "ref.h5"
    with h5py.File(path, "w") as f:
        f["points/x"], f["ref/u"] = [0.0, 1.0], [2.0, 3.0]
    config_error(
        lambda: read_points(path, ("x", "t"), ("u", "v"), time="t"),
        f"reference file {path} lacks points/t, ref/v: it holds points/x, ref/u",
    )
    broken = write(tmp_path / "broken.h5", "not hdf5")
    config_error(lambda: read_points(broken, ("x",), ("u",)), f"reference file {broken} is not a readable HDF5 file")


# --- the uniform interior points of a box (DeepXDE's uniform_points(n, boundary=False)) --------


def axes(points: np.ndarray) -> list[np.ndarray]:
    return [np.unique(points[:, i]) for i in range(points.shape[1])]


def test_a_square_without_time_is_one_hypercube_of_interior_points():
    # Wave1d-C: the Rectangle over (x, t) asked for 2500 points: dx = (1 / 2500) ** 0.5 = 0.02,
    # ceil(1 / 0.02) = 50 points per axis at k / 51, k = 1..50
    pts = uniform_interior({"t": (0.0, 1.0), "x": (0.0, 1.0)}, 2500)
    assert pts.shape == (2500, 2)
    for a in axes(pts):
        np.testing.assert_allclose(a, np.arange(1, 51) / 51, atol=1e-15)


def test_a_five_dimensional_cube_has_eight_interior_points_per_axis():
    # PNd: 20000 asked, dx = 20000 ** -0.2 = 0.138, ceil(7.25) = 8 per axis at k / 9
    pts = uniform_interior({f"x{i}": (0.0, 1.0) for i in range(1, 6)}, 20000)
    assert pts.shape == (8**5, 5)
    for a in axes(pts):
        np.testing.assert_allclose(a, np.arange(1, 9) / 9, atol=1e-15)


def test_a_space_time_box_takes_its_space_points_at_times_from_the_end():
    # HInv: [-1, 1]^2 x [0, 1], 20000 asked: nx = ceil(sqrt(20000 * 4 / 1)) = 283, dx = sqrt(4 / 283),
    # ceil(2 / dx) = 17 per space axis; nt = ceil(20000 / 283) = 71 times 1, 1 - 1/71, ..., 1/71
    pts = uniform_interior({"x": (-1.0, 1.0), "y": (-1.0, 1.0), "t": (0.0, 1.0)}, 20000, time="t")
    assert pts.shape == (17 * 17 * 71, 3)
    x, y, t = axes(pts)
    np.testing.assert_allclose(x, -1 + 2 * np.arange(1, 18) / 18, atol=1e-15)
    np.testing.assert_allclose(y, x, atol=0)
    np.testing.assert_allclose(t, np.arange(1, 72) / 71, atol=1e-15)
    assert len({tuple(r) for r in pts}) == len(pts)
    # Heat2d-MS: [0, 1]^2 x [0, 5]: nx = ceil(sqrt(4000)) = 64, 8 x 8, nt = ceil(20000 / 64) = 313
    ms = uniform_interior({"x": (0.0, 1.0), "y": (0.0, 1.0), "t": (0.0, 5.0)}, 20000, time="t")
    assert [len(a) for a in axes(ms)] == [8, 8, 313] and axes(ms)[2].max() == 5.0 and axes(ms)[2].min() > 0


def test_an_interval_in_time_takes_the_asked_number_of_space_points():
    # a 1-D space is DeepXDE's Interval: nx = ceil(sqrt(2500 * 2 / 1)) = 71 points at -1 + 2 k / 72,
    # nt = ceil(2500 / 71) = 36 times
    pts = uniform_interior({"t": (0.0, 1.0), "x": (-1.0, 1.0)}, 2500, time="t")
    t, x = axes(pts)
    np.testing.assert_allclose(x, -1 + 2 * np.arange(1, 72) / 72, atol=1e-15)
    assert len(t) == 36 and pts.shape == (71 * 36, 2)
