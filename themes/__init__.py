"""The themes vstui ships (TOML files), installed as the package vstui.builtin_themes."""
