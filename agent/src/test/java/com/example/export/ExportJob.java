package com.example.export;

import io.highwater.core.TestLayers;

import io.highwater.core.Monitor;
import io.highwater.core.StackInspector;
import io.highwater.core.TrackedConnection;

import java.util.function.Supplier;

/** Stands for application code in unit tests: its package is not one the agent treats as a framework. */
public final class ExportJob {

    private ExportJob() {
    }

    public static void writeRowsIgnoringBackpressure(Monitor monitor, TrackedConnection c, int writes) {
        for (int i = 0; i < writes; i++) {
            monitor.ignoredWrite(c, TestLayers.CHANNEL_UNWRITABLE, 100);
        }
    }

    public static StackInspector.Result inspectFromHere(StackInspector inspector) {
        return inspector.inspect();
    }

    public static StackInspector.Result inspectFromLambda(StackInspector inspector) {
        Supplier<StackInspector.Result> inLambda = () -> inspector.inspect();
        return inLambda.get();
    }
}
