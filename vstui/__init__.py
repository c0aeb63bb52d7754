"""vstui — a terminal browser for the OpenAI Vector Stores API."""

__version__ = "0.1.0"
