"""The plugin system: hook specs, the registry of transforms and presets, and loading."""
