"""Services: what the command line, the API and the console call. They join the pure layers
(domain, resolution) to the store; callers never write SQL."""
