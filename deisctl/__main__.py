from deisctl.cli import main

main()
