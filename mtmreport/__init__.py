"""mtmreport: IOM's MTM Kazakhstan Quarterly Compilation Report, built from data."""

__version__ = "0.1.0"
