"""The service layer: one function per use case, each traced as an operation."""
