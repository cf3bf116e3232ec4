"""The shipped demo checkpoint (see recipe.md): data, not code."""
