"""Topology: the substation → feeder → transformer area → account chain as a browser, a fault worklist and a map."""
