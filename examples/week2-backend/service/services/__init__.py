"""The example's service layer: one module per route family, each function returning mock data traced as an
operation.
"""
