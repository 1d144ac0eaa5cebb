"""In-app notifications: a `notify()` every domain calls, the inbox routes, and bot pushes."""
