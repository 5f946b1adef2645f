from mtmreport.cli import main

main()
