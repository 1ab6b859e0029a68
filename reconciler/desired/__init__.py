"""The desired state: YAML read with positions (`yamlsrc`), the format's models and messages
(`schema`), and the loader that turns files into a `DesiredState` (`loader`)."""
