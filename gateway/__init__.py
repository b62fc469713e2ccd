"""The gateway: the one HTTP door for client apps and partner programmes."""
