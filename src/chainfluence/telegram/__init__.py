"""The Telegram bot: aiogram client and dispatcher, handlers, pushes, posting, stats providers."""
