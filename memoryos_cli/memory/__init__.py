"""The three memory tiers, consolidation and recall. Nothing here imports UI libraries."""
