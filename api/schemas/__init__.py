"""Request (`…Create`, `…Set`) and response (`…Out`) models, one module per resource."""
