"""Prevention first (P1-P5): early warnings, maintenance windows, inspections, visits."""
