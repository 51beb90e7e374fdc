"""Data collection from meters: the DL/T 645-2007 codec and the TCP collector that uses it."""
