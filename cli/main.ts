console.log("haumana-ops: not built yet");
