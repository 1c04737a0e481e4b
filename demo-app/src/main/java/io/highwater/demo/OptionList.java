package io.highwater.demo;

import java.util.ArrayList;
import java.util.List;

/**
 * The options of a command, in the order its {@code --help} lists them, each with its help text: what
 * {@link Args#parse} needs to know, and the usage text, from one declaration. The scenario's phases add their own.
 */
final class OptionList {
    /** Where the help text starts on each line. */
    private static final int TEXT_COLUMN = 27;

    private final List<String> valued = new ArrayList<>();
    private final List<String> flags = new ArrayList<>();
    private final StringBuilder help;

    OptionList(String usageLine) {
        help = new StringBuilder(usageLine);
    }

    /** {@code --name ARG}: an option with a value; each element of {@code text} is a line of its help. */
    OptionList valued(String name, String arg, String... text) {
        valued.add(name);
        describe("--" + name + " " + arg, text);
        return this;
    }

    /** {@code --name}: a flag; each element of {@code text} is a line of its help. */
    OptionList flag(String name, String... text) {
        flags.add(name);
        describe("--" + name, text);
        return this;
    }

    Args parse(String[] args) {
        return Args.parse(args, valued, flags);
    }

    String help() {
        return help.toString();
    }

    private void describe(String option, String[] text) {
        StringBuilder line = new StringBuilder("  ").append(option).append(' ');
        for (int i = 0; i < text.length; i++) {
            while (line.length() < TEXT_COLUMN) {
                line.append(' ');
            }
            help.append('\n').append(line).append(text[i]);
            line.setLength(0);
        }
    }
}
