package io.highwater.core;

import com.example.export.ExportJob;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Collections;

import static org.assertj.core.api.Assertions.assertThat;

class StackInspectorTest {

    @Test
    void generatedNamesAreNormalisedSoRestartsDoNotMintNewValues() {
        assertThat(StackInspector.normalise("com.example.Export$$Lambda$123/0x0000000800c0b440", "run"))
                .isEqualTo("com.example.Export$$Lambda.run");
        assertThat(StackInspector.normalise("com.example.Export$$Lambda/0x00007f3c1c0a1234", "run"))
                .isEqualTo("com.example.Export$$Lambda.run");
        assertThat(StackInspector.normalise("com.example.Export", "lambda$writeRows$3"))
                .isEqualTo("com.example.Export.lambda$writeRows");
        assertThat(StackInspector.normalise("com.sun.proxy.$Proxy42", "write")).isEqualTo("com.sun.proxy.$Proxy.write");
        assertThat(StackInspector.normalise("com.example.Svc$$EnhancerBySpringCGLIB$$1a2b3c", "export"))
                .isEqualTo("com.example.Svc$$EnhancerBySpringCGLIB.export");
        assertThat(StackInspector.normalise("com.example.Svc$$SpringCGLIB$$0", "export"))
                .isEqualTo("com.example.Svc$$SpringCGLIB.export");
        assertThat(StackInspector.normalise("com.example.Svc$ByteBuddy$AbC12", "export"))
                .isEqualTo("com.example.Svc$ByteBuddy.export");
        assertThat(StackInspector.normalise("jdk.internal.reflect.GeneratedMethodAccessor17", "invoke"))
                .isEqualTo("jdk.internal.reflect.GeneratedMethodAccessor.invoke");
        assertThat(StackInspector.normalise("com.example.Export", "writeRows")).isEqualTo("com.example.Export.writeRows");
    }

    @Test
    void theFirstFrameOutsideFrameworksIsTheCaller() {
        StackInspector inspector = new StackInspector(Collections.emptyList());
        StackInspector.Result r = ExportJob.inspectFromHere(inspector);
        assertThat(r.function).isEqualTo(ExportJob.class.getName() + ".inspectFromHere");
        assertThat(r.forwarded).isFalse();
    }

    @Test
    void extraFrameworkPackagesAreSkipped() {
        StackInspector inspector = new StackInspector(Arrays.asList("com.example.export", " "));
        assertThat(inspector.frameworks().isFramework(ExportJob.class.getName())).isTrue();
        assertThat(ExportJob.inspectFromHere(inspector).function).doesNotStartWith(ExportJob.class.getName());
    }

    @Test
    void lambdaBodiesAreNamedAfterTheirEnclosingMethod() {
        StackInspector inspector = new StackInspector(Collections.emptyList());
        assertThat(ExportJob.inspectFromLambda(inspector).function)
                .isEqualTo(ExportJob.class.getName() + ".lambda$inspectFromLambda");
    }
}
