"""RepairHub (报修云): repair and maintenance work orders."""
