"""smsgate: a self-hosted SMS gateway.

Importing the package imports nothing else, so `smsgate.client` installs and loads
without the server's dependencies.
"""

__version__ = "0.1.0"
