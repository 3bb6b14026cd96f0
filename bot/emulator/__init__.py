"""Local emulators of the messenger APIs, for tests and the demo: bot.emulator.telegram and bot.emulator.vk."""
