"""deisctl: administer a Deis-style PaaS cluster whose configuration lives in etcd."""

__version__ = "0.1.0"
