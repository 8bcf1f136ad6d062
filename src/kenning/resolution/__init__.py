"""The identity engine, pure: handed normalised records, it returns decisions.

features → blocking → comparisons → model (Fellegi–Sunter, trained by EM) → clustering →
stable ids; pipeline.resolve runs them in order, evaluation scores the result.
"""
