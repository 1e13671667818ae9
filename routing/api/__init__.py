"""The routing app has no API of its own yet: its figures are on the staff page /routing/."""
