from wsbridge.cli import main

main()
