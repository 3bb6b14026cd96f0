"""Monthly and annual reports: figures computed with a few SQL aggregates (figures.py), an XLSX
workbook (workbook.py) and PNG charts (charts.py) in the reader's language, for heads and
coordinators. Aggregates only: no names of families, no message text, no person id."""
