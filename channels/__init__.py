"""Transport adapters, one module (or family of modules) per network: console, test,
wechaty. Each renders mentions its own way and declares what it can do; the seam they
implement is bot/transport.py."""
