from mtmreport.cli import run

run()
