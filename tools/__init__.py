"""Developer tools that never ship in the image: `make docs`."""
