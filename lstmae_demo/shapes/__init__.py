"""Shapes: the tracer (trace, records), its oracle (probe), the Time steps views and the
plain-language verdicts built from a trace."""
