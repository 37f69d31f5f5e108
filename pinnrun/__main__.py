from pinnrun.cli import main

main()
