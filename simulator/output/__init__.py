"""What a run leaves behind: durable per-point results and CSVs, paper figures, report.html with its
gallery, and the progress lines while it runs."""
