package jdk.internal.vm.annotation;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Compile-time stand-in for java.base's own annotation, which {@code --release 11} cannot see (the package is not
 * exported). The JVM recognises the annotation by this name alone, and only on classes of the boot class loader,
 * which is where the agent defines its bootstrap helpers. javac finds this file on the source path only
 * ({@code -implicit:none}): it is never compiled into the agent, so at run time the name is java.base's.
 */
@Target({ElementType.METHOD, ElementType.CONSTRUCTOR})
@Retention(RetentionPolicy.RUNTIME)
public @interface DontInline {
}
