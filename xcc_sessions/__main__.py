from xcc_sessions.cli import main

main()
