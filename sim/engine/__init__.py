"""The run itself: builds the parts in order and moves rides through them."""
