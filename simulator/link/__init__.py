"""The link of one sweep point: how images cross it (transports), the pipeline that runs a point,
the sweep over points and where points run, and the scoring of what the receiver got."""
