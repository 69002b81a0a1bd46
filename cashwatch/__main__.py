from cashwatch.cli import main

main()
