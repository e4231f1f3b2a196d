"""商会助手 (chamberbot): the core. It knows nothing about WeChat."""

__version__ = "0.1.0"
