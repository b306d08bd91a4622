"""The road graph and travel times: graph builders (grid, ring-radial, GraphML), the travel-
time matrices and their cache, and the spatial indices dispatch searches."""
