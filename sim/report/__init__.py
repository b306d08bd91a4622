"""Views of finished runs: the terminal table, the HTML report, comparisons and plots. Reads
run directories; runs nothing."""
