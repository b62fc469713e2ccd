"""The gateway's routes, one mixin per area of the API, composed in `gateway.service`."""
