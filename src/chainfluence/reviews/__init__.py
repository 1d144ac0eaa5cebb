"""Reviews: after a deal ends, each party rates the other once; users and channels keep averages."""
