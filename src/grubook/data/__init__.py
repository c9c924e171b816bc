"""Data: synthetic sequence tasks, the offline real data sets, the offline text corpus."""
