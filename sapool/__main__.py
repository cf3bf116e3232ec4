from sapool.cli import main

main()
