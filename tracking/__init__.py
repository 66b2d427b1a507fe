"""Vehicle tracking: GNSS positions from carriers' platforms and the national node, stored by day."""
