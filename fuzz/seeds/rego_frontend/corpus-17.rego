package p

x := semver.compare("1.2", "1.0.0")
