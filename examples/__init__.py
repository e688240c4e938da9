"""Banyan examples: the synthetic demo bank generator and, later, scenario scripts and small bundles."""
