from ruongso.cli import main

main()
