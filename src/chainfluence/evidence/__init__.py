"""Evidence packs: one signed JSON document per deal that anyone can check offline."""
